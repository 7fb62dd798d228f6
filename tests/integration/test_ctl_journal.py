#!/usr/bin/python3
"""
test_ctl_journal.py - the controller's journal under SIGKILL (control/state_store.h).

4 clients, each on one pipelined connection (lib/contract/ctl_proto.h, up to 32 requests ahead of their
answers), change their own meeting as fast as the controller takes it: `sub set --out-ssrc` with a
new value each time, and every 40th change a participant joins or leaves. The controller (journal
compacted every 500 records, so kills land in compactions too) is killed with SIGKILL at random
points and restarted (at least 12 times), until at least 10,000 changes were acknowledged. After each restart, for each
client, the state (`mmrctl --json sub list`, `meeting show`) must be what its first k changes make,
for some k between the number it got answers for and the number it sent: every acknowledged change
is there, in order; an unacknowledged one may be there or not. Meanwhile alice sends audio to bob in
a meeting nobody touches: bob must receive every packet, in order (the dataplane never stops).

--ack-early runs the controller with MMR_TEST_ACK_EARLY=1 (it answers before it writes): the check
must then fail ("acknowledged change lost"); tests/run-all.sh runs that as a negative control.
The dataplane runs with `rtcp = false` (media only toward the receivers' sockets; test_rtcp.py
covers the MMR's RTCP).
"""
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import mmrtest  # noqa: E402
from mmrtest import MmrEnv, CLIENT_IP  # noqa: E402
import rtpgen  # noqa: E402

CLIENTS = 4
WINDOW = 32
GOAL = 10000
MIN_KILLS = 12
ACK_EARLY = '--ack-early' in sys.argv
SSRC = 0x5000


def frame(args):
    argv = [str(a).encode() for a in args]
    payload = struct.pack('<I', len(argv)) + b''.join(struct.pack('<I', len(a)) + a for a in argv)
    return b'MMRQ' + struct.pack('<I', len(payload)) + payload


class Client(threading.Thread):
    """Changes meeting c<i>: commands[j] is the j-th change; acked: how many got an "ok"."""

    def __init__(self, i, sock_path):
        super().__init__(daemon=True)
        self.i, self.sock_path = i, sock_path
        self.meeting = 'c%d' % i
        self.commands = []      # (kind, value): ('out', n) or ('join', name) or ('leave', name)
        self.acked = 0
        self.errors = []
        self.present = set()    # the extra participants after the changes made so far (planning)
        self.next_name = 0
        self.stop = threading.Event()

    def plan(self):
        """The next change (from the planned state, so it is valid after every earlier one)."""
        j = len(self.commands)
        if j % 40 == 39:
            if self.present and (len(self.present) > 3 or random.random() < 0.5):
                name = sorted(self.present)[0]
                self.present.discard(name)
                return ('leave', name), ['participant', 'remove', self.meeting, name]
            name = 'x%d' % self.next_name
            self.next_name += 1
            self.present.add(name)
            return ('join', name), ['participant', 'add', self.meeting, name, '--addr', '10.9.%d.%d' % (self.i, self.next_name % 250 + 1),
                                    '--port', str(7000 + self.next_name // 250), '--role', 'recvonly']
        v = 0x10000 * (self.i + 1) + j
        return ('out', v), ['sub', 'set', self.meeting, 'r', '--ssrc', SSRC, '--out-ssrc', v]

    def run(self):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.sock_path)
        except OSError:
            return
        inflight = 0
        buf = b''
        try:
            while True:
                while inflight < WINDOW and not self.stop.is_set():
                    cmd, args = self.plan()
                    self.commands.append(cmd)
                    s.sendall(frame(args))
                    inflight += 1
                if inflight == 0:
                    return
                r, _, _ = select.select([s], [], [], 5)
                if not r:
                    return
                data = s.recv(1 << 16)
                if not data:
                    return
                buf += data
                while len(buf) >= 8:
                    n = struct.unpack('<I', buf[4:8])[0]
                    if len(buf) < 8 + n:
                        break
                    text = buf[8:8 + n].decode()
                    buf = buf[8 + n:]
                    inflight -= 1
                    if text.startswith('ok'):
                        self.acked += 1
                    else:
                        self.errors.append((self.acked, text.strip()))
                        return
        except OSError:
            return
        finally:
            s.close()


def expected(base_out, base_present, commands, k):
    """(out_ssrc, extra participants) after the first k commands, from the base state."""
    out, present = base_out, set(base_present)
    for kind, v in commands[:k]:
        if kind == 'out':
            out = v
        elif kind == 'join':
            present.add(v)
        else:
            present.discard(v)
    return out, present


def observe(env, meeting):
    subs = env.ctl('sub', 'list', meeting, json=True).stdout['subscriptions']
    outs = [s['out_ssrc'] for s in subs if s['subscriber'] == 'r']
    show = env.ctl('meeting', 'show', meeting, json=True).stdout
    names = {p['name'] for p in show['participants']} - {'pub', 'r'}
    return outs[0], names


class Audio(threading.Thread):
    """alice -> bob, about 400 packets/s, untouched by the churn."""

    def __init__(self, env, tx, rx):
        super().__init__(daemon=True)
        self.env, self.tx, self.rx = env, tx, rx
        self.gen = rtpgen.OpusLike(0xA0D10)
        self.sent = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.env.send(self.tx, self.gen.next_packet().data)
            self.sent += 1
            time.sleep(0.0025)


def main():
    failures = []

    def check(cond, what):
        print('%s %s' % ('ok' if cond else 'FAIL', what), flush=True)
        if not cond:
            failures.append(what)

    random.seed(int(os.environ.get('MMR_TEST_SEED', '0')) or None)
    with MmrEnv('journal', rtcp=False) as env:
        # compactions every 500 records (a kill lands in one now and then); the test hook if asked
        env.kill_controller(signal.SIGTERM)
        with open(os.path.join(env.tmp, 'controller.conf'), 'a') as f:
            f.write('journal_max_records = 500;\n')
        if ACK_EARLY:
            os.environ['MMR_TEST_ACK_EARLY'] = '1'
        env.start_controller()
        env.wait_dp_attached()
        env.meeting('calm')
        env.participant('calm', 'alice', 6001)
        env.participant('calm', 'bob', 6002, role='recvonly')
        env.stream('calm', 'alice', 0xA0D10, kind='audio')
        bob = env.udp_socket(6002)
        alice = env.udp_socket(6001)
        base = []
        for i in range(CLIENTS):
            m = 'c%d' % i
            env.meeting(m)
            env.participant(m, 'pub', 6100 + i, addr='10.8.%d.1' % i)
            env.participant(m, 'r', 6200 + i, addr='10.8.%d.2' % i, role='recvonly')
            env.stream(m, 'pub', SSRC)
            base.append((SSRC, set()))
        audio = Audio(env, alice, bob)
        received = []
        rx_stop = threading.Event()

        def receive():
            while not rx_stop.is_set():
                received.extend(env.recv_all(bob, 0.2, max_wait=0.5))
        rx = threading.Thread(target=receive, daemon=True)
        rx.start()
        audio.start()
        total = rounds = 0
        compactions = 0
        while (total < GOAL or rounds < MIN_KILLS) and rounds < 60:
            rounds += 1
            clients = [Client(i, env.socket_path) for i in range(CLIENTS)]
            for c, (out, present) in zip(clients, base):
                c.present = set(present)
                c.next_name = 1000 * rounds
            for c in clients:
                c.start()
            time.sleep(random.uniform(0.02, 0.35))
            env.kill_controller()
            for c in clients:
                c.stop.set()
                c.join(10)
            with open(env.ctl_log) as f:
                compactions = f.read().count('compacted:')
            env.start_controller()
            try:
                env.wait_dp_attached()
            except mmrtest.HarnessError as e:
                # a state older than the tables it built (fencing's lineage check holds the
                # controller): changes the dataplane applied are missing from the state. Only that
                # says "acknowledged change lost" (the --ack-early negative control matches it);
                # any other reason not to attach is a failure of its own
                cp = env.ctl('status', json=True, check=False)
                dp = (cp.stdout.get('dataplane') or {}) if cp.returncode == 0 and \
                    isinstance(cp.stdout, dict) else {}
                why = str(dp.get('why', ''))
                if dp.get('mode') == 'held' and 'older' in why:
                    check(False, 'round %d: acknowledged change lost: the restarted controller is '
                          'held, its state is older than the tables: %s' % (rounds, why[:400]))
                else:
                    check(False, 'round %d: restarted controller not attached: %s (status: %s)' %
                          (rounds, str(e)[:400], (why or str(cp.stdout) or cp.stderr)[:400]))
                break
            for c in clients:
                if c.errors:
                    check(False, 'client %d: an error answer: %s' % (c.i, c.errors[0]))
                    c.commands = c.commands[:c.errors[0][0]]
                got = observe(env, c.meeting)
                ks = [k for k in range(c.acked, len(c.commands) + 1)
                      if expected(base[c.i][0], base[c.i][1], c.commands, k) == got]
                if not ks:
                    want = expected(base[c.i][0], base[c.i][1], c.commands, c.acked)
                    check(False, 'round %d client %d: acknowledged change lost: state %s, after the %d '
                          'acknowledged changes (of %d sent) want %s' % (rounds, c.i, got, c.acked,
                                                                         len(c.commands), want))
                    base[c.i] = got
                else:
                    base[c.i] = got
                total += c.acked
            if failures:
                break
        check((total >= GOAL and rounds >= MIN_KILLS) or failures, '%d changes acknowledged over %d controller kills (%d compactions '
              'seen in the log)' % (total, rounds, compactions))
        check(not failures, 'after every kill the state held every acknowledged change')
        audio.stop.set()
        audio.join()
        time.sleep(1.0)
        rx_stop.set()
        rx.join()
        got = received + env.recv_all(bob, 0.5)
        seqs = [rtpgen.parse_rtp(d).seq for d in got]
        check(len(got) == audio.sent, 'bob got all %d of alice\'s packets through the kills (%d)' %
              (audio.sent, len(got)))
        check(all((b - a) & 0xffff == 1 for a, b in zip(seqs, seqs[1:])), 'in order, no duplicate')
    print('%s: %d failure(s)' % (os.path.basename(__file__), len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
